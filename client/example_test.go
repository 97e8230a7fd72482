package client_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/haulout/haulout/client"
)

// Store a file through a publisher and read it back through an
// aggregator (a devnet's default addresses).
func Example() {
	ctx := context.Background()
	pub := &client.Publisher{URL: "http://127.0.0.1:31416"}
	agg := &client.Aggregator{URL: "http://127.0.0.1:31415"}

	f, err := os.Open("photo.jpg")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	res, err := pub.StoreBlob(ctx, f, st.Size(), client.StoreOptions{Epochs: 5, Resumable: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("blob", res.BlobID(), "until epoch", res.EndEpoch())

	if err := agg.ReadBlob(ctx, res.BlobID(), os.Stdout); client.IsNotFound(err) {
		log.Fatal("not stored")
	} else if err != nil {
		log.Fatal(err)
	}
}

// Store without a publisher: encode here, talk to the nodes and the ledger.
func ExampleDirect() {
	d := &client.Direct{Ledger: client.NewLedger("http://127.0.0.1:31400", nil)}
	res, err := d.StoreBlob(context.Background(), []byte("hello"), client.StoreOptions{Epochs: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.BlobID())
}
