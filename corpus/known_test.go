package corpus_test

import (
	"github.com/routefuzz/routefuzz/corpus"
	"github.com/routefuzz/routefuzz/props"
)

func init() { corpus.KnownOp = props.KnownOp }
