module github.com/routefuzz/routefuzz

go 1.26
