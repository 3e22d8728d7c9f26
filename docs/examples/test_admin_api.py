"""Testing a Python app against the emulator, through its admin API (standard library only).

Run: python3 -m unittest docs/examples/test_admin_api.py
EMULATOR_COMMAND starts the emulator (default: the published package's command).
"""
import json
import os
import shlex
import ssl
import subprocess
import unittest
import urllib.error
import urllib.request

COMMAND = os.environ.get("EMULATOR_COMMAND", "npx effect-databricks-emulator --json")


def hello(host, token, context):
    """The app under test: greets the current user, retrying a 503 once."""
    request = urllib.request.Request(host + "/api/2.0/preview/scim/v2/Me", headers={"Authorization": "Bearer " + token})
    for attempt in (1, 2):
        try:
            with urllib.request.urlopen(request, context=context) as response:
                return "Hello, " + json.load(response)["displayName"] + "!"
        except urllib.error.HTTPError as error:
            if error.code != 503 or attempt == 2:
                raise


def setUpModule():
    global emulator, info, context
    # The first line on stdout is the connection info; the emulator runs until terminated.
    emulator = subprocess.Popen(shlex.split(COMMAND), stdout=subprocess.PIPE, text=True)
    info = json.loads(emulator.stdout.readline())
    context = ssl.create_default_context(cafile=info["caCertPath"])


def tearDownModule():
    emulator.terminate()
    emulator.wait(timeout=10)


def admin(method, path, body=None):
    """One admin API call: the admin token, JSON in and out."""
    request = urllib.request.Request(
        info["host"] + "/__emulator/" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + info["adminToken"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=context) as response:
        text = response.read()
        return json.loads(text) if text else None


class HelloTest(unittest.TestCase):
    def setUp(self):
        admin("POST", "reset")

    def test_greets_the_current_user(self):
        self.assertRegex(hello(info["host"], info["pat"], context), r"^Hello, .+!$")
        self.assertEqual(admin("GET", "stats")["requests"]["scim"], 1)

    def test_retries_a_503_once(self):
        admin("POST", "faults", {"target": "scim", "status": 503, "count": 1})
        hello(info["host"], info["pat"], context)
        stats = admin("GET", "stats")
        self.assertEqual(stats["faultsInjected"]["scim"], 1)
        self.assertEqual(stats["requests"]["scim"], 2)

    def test_seeds_the_warehouse_with_sql(self):
        admin("POST", "sql", {"sql": "CREATE TABLE answers AS SELECT 42 AS answer"})
        self.assertEqual(admin("POST", "sql", {"sql": "SELECT answer FROM answers"})["rows"], [{"answer": 42}])


if __name__ == "__main__":
    unittest.main()
