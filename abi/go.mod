module github.com/wedge-run/wedge/abi

go 1.24
