// Package prometheus_test checks the alert rules with promtool, from the
// Debian package prometheus. Without promtool on PATH the tests skip,
// unless CI is set.
package prometheus_test

import (
	"os"
	"os/exec"
	"testing"
)

// promtool returns the path of promtool, skipping the test when it is
// missing outside CI.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("promtool not found on PATH; install it with apt-get install -y prometheus")
		}
		t.Skip("promtool not found on PATH; apt-get install -y prometheus to run the alert rule tests")
	}
	return path
}

func TestRulesCheck(t *testing.T) {
	out, err := exec.Command(promtool(t), "check", "rules", "usageledger.rules.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

func TestRulesUnitTests(t *testing.T) {
	out, err := exec.Command(promtool(t), "test", "rules", "usageledger.rules.test.yml", "usageledger.idle.test.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
