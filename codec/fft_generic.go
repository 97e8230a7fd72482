package codec

func mulAdd(x, y []byte, t *mulTable) { mulAddGeneric(x, y, t) }

func mul(x []byte, t *mulTable) { mulGeneric(x, t) }
