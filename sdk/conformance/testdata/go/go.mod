module github.com/wedge-run/wedge/sdk/conformance/testdata/go

go 1.24

require github.com/wedge-run/wedge/sdk/go v0.0.0

replace github.com/wedge-run/wedge/sdk/go => ../../../go
