package main

import "testing"

// The site command's refusals that need no network; deploys and reads run
// against real services in aggregator/sitedeploy_test.go and
// devnet/site_e2e_test.go.
func TestSiteUsage(t *testing.T) {
	runGolden(t, "site", []cliCase{
		{name: "no-args", args: []string{"site"}},
		{name: "unknown-subcommand", args: []string{"site", "publish", "dir"}},
		{name: "deploy-no-dir", args: []string{"site", "deploy"}},
		{name: "deploy-two-dirs", args: []string{"site", "deploy", "a", "b"}},
		{name: "bad-site-id", args: []string{"site", "deploy", "inputs/site-bad-ws", "--site-id", "0xnothex"}},
		{name: "bad-epochs", args: []string{"site", "deploy", "inputs/site-bad-ws", "--epochs", "0"}},
		{name: "missing-dir", args: []string{"site", "deploy", "inputs/no-such-site"}},
		{name: "not-a-dir", args: []string{"site", "deploy", "inputs/hello.txt"}},
		{name: "bad-ws-resources", args: []string{"site", "deploy", "inputs/site-bad-ws"}},
		{name: "missing-ws-resources", args: []string{"site", "deploy", "inputs/site-bad-ws", "--ws-resources", "inputs/none.json"}},
		{name: "info-bad-id", args: []string{"site", "info", "not-an-id!"}},
	})
}
