module github.com/wedge-run/wedge/sdk/conformance/testdata/go

go 1.24

require github.com/wedge-run/wedge/sdk/go v0.0.0

require github.com/wedge-run/wedge/abi v0.0.0 // indirect

replace github.com/wedge-run/wedge/sdk/go => ../../../go

replace github.com/wedge-run/wedge/abi => ../../../../abi
