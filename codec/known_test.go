package codec

import "testing"

func TestKnownBlobIDs(t *testing.T) {
	for _, tc := range []struct {
		data string
		n    int
		want string
	}{
		{"hello world", 1000, "vldooumlbSRuiUvv54k0MowsF5afG7SVC0b9oXufbzQ"},
		{"hello world", 10, "kfhAwEGrCYXNqnGv2jNMEVS3pX0yVV5M15csfujtUDg"},
		{"", 1000, "3GPQL3HZNnFhN_F7l5Aa-X1VOtAKwIsg9zuWk8R81v4"},
	} {
		id, err := ComputeBlobID([]byte(tc.data), tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if id.String() != tc.want {
			t.Errorf("blob ID of %q at n=%d: got %s, want %s", tc.data, tc.n, id, tc.want)
		}
	}
}
