package codec

import "math/big"

// Shards and sliver pairs are rotated per blob so that the systematic
// slivers of different blobs land on different nodes: the rotation is the
// blob ID read as a big-endian number, modulo the number of shards.

func rotation(id BlobID, nShards int) int {
	var v big.Int
	v.SetBytes(id[:])
	return int(new(big.Int).Mod(&v, big.NewInt(int64(nShards))).Int64())
}

// ShardForPair returns the shard that stores sliver pair p of the blob.
func ShardForPair(id BlobID, p, nShards int) int {
	return (p + rotation(id, nShards)) % nShards
}

// PairForShard returns the sliver pair that shard s stores for the blob.
func PairForShard(id BlobID, s, nShards int) int {
	return (nShards + s - rotation(id, nShards)) % nShards
}
