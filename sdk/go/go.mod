module github.com/wedge-run/wedge/sdk/go

go 1.24
