package gateway

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/wedge-run/wedge/internal/logs"
)

type bufioWriter = bufio.Writer

func writeLine(w io.Writer, e logs.Entry) {
	b, _ := json.Marshal(e)
	b = append(b, '\n')
	_, _ = w.Write(b)
}
