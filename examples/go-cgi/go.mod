module github.com/wedge-run/wedge/examples/go-cgi

go 1.26
