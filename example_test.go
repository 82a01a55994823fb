package wedge_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/bytecodealliance/wasmtime-go/v39"
	"github.com/wedge-run/wedge"
	"github.com/wedge-run/wedge/client"
	"github.com/wedge-run/wedge/examples"
)

// Start a node on listeners of the program's own, deploy a function
// through the admin API, and call it.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "wedge-example")
	defer os.RemoveAll(dir)
	pub, _ := net.Listen("tcp", "127.0.0.1:0")
	adm, _ := net.Listen("tcp", "127.0.0.1:0")
	n, err := wedge.Start(ctx, wedge.Config{PublicListener: pub, AdminListener: adm, DataDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer n.Close()

	wasm, _ := wasmtime.Wat2Wasm(examples.HelloWAT)
	cl := client.New("http://"+n.AdminAddr(), n.AdminToken())
	if _, _, err := cl.Deploy(ctx, "hello", wasm, client.DeployOptions{Routes: []string{"/hello"}}); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := http.Get("http://" + n.PublicAddr() + "/hello")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.StatusCode, " ", string(body))
	// Output: 200 hello from wedge
}
