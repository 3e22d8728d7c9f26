declare module "thrift"
