module github.com/wedge-run/wedge/examples/chat/web

go 1.24

require (
	github.com/wedge-run/wedge/examples/chat/shared v0.0.0
	github.com/wedge-run/wedge/sdk/go v0.0.0
)

require github.com/wedge-run/wedge/abi v0.0.0 // indirect

replace (
	github.com/wedge-run/wedge/examples/chat/shared => ../shared
	github.com/wedge-run/wedge/sdk/go => ../../../sdk/go
)

replace github.com/wedge-run/wedge/abi => ../../../abi
