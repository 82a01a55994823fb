module github.com/wedge-run/wedge/sdk/go

go 1.24

require github.com/wedge-run/wedge/abi v0.0.0

replace github.com/wedge-run/wedge/abi => ../../abi
