package aggregator

import (
	"net/http"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/nodeclient"
)

// nodeDialer returns Config.Dial's default: a nodeclient.Client per node,
// all sharing hc (their connections are kept per node).
func nodeDialer(hc *http.Client) func(chain.NodeInfo) (SliverSource, error) {
	return func(node chain.NodeInfo) (SliverSource, error) {
		c, err := nodeclient.New(node.RESTURL, nodeclient.WithHTTPClient(hc))
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}
