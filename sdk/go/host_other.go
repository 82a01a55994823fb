//go:build !wasip1

package wedge

import (
	"os"

	"github.com/wedge-run/wedge/abi"
)

// Outside a wasip1 build there is no wedge host: every call answers
// "unsupported" (logs go to stderr), so code using the SDK compiles and runs (for example in
// its own unit tests) and sees wedge.ErrUnsupported instead of a crash.
func platformHost() host { return noHost{} }

type noHost struct{}

const unsupported = -int32(abi.ErrUnsupported)

func (noHost) requestHead([]byte) int32         { return unsupported }
func (noHost) requestBody([]byte) int32         { return unsupported }
func (noHost) responseHead(int32, []byte) int32 { return unsupported }
func (noHost) responseWrite([]byte) int32       { return unsupported }
func (noHost) log(level int32, msg string) int32 {
	os.Stderr.WriteString(abi.LevelName(level) + ": " + msg + "\n")
	return 0
}
func (noHost) configGet(string, []byte) int32                     { return unsupported }
func (noHost) kvGet(string, string, []byte, *uint64) int32        { return unsupported }
func (noHost) kvPut(string, string, []byte, int64, int64) int64   { return int64(unsupported) }
func (noHost) kvDelete(string, string, int64) int32               { return unsupported }
func (noHost) kvIncrement(string, string, int64, *int64) int32    { return unsupported }
func (noHost) kvList(string, string, string, int32, []byte) int32 { return unsupported }
func (noHost) eventGet([]byte) int32                              { return unsupported }
func (noHost) queuePublish(string, []byte) int32                  { return unsupported }
func (noHost) objectRead(string, string, int64, []byte) int64     { return int64(unsupported) }
