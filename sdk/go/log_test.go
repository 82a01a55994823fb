package wedge

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/wedge-run/wedge/abi"
)

func TestLoggerLevelsAndFormat(t *testing.T) {
	f := newFake()
	l := slog.New(newLogHandler(f))
	l.Debug("dbg")
	l.Info("note created", "id", 7, "title", "a b")
	l.Warn("careful")
	l.Error("failed", "err", "boom")
	l.Log(nil, slog.LevelError+4, "fatal-ish")
	l.With("fn", "api").WithGroup("req").Info("served", "status", 200)
	l.Info("", "only", "attrs")
	want := []logLine{
		{abi.LogDebug, "dbg"},
		{abi.LogInfo, `note created id=7 title="a b"`},
		{abi.LogWarn, "careful"},
		{abi.LogError, "failed err=boom"},
		{abi.LogError, "fatal-ish"},
		{abi.LogInfo, "served fn=api req.status=200"},
		{abi.LogInfo, "only=attrs"},
	}
	if len(f.logs) != len(want) {
		t.Fatalf("logs:\n%s", f.logText())
	}
	for i := range want {
		if f.logs[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, f.logs[i], want[i])
		}
	}
}

func TestLoggerUsesPackageHost(t *testing.T) {
	f := newFake()
	f.install(t)
	Logger().Info("hi")
	if len(f.logs) != 1 || f.logs[0].msg != "hi" {
		t.Errorf("logs: %+v", f.logs)
	}
	if Logger() != Logger() {
		t.Error("Logger is not a singleton")
	}
}

func TestLongLogMessagesAreSplit(t *testing.T) {
	f := newFake()
	var lines []string
	for i := range 2000 {
		lines = append(lines, strings.Repeat("x", 20)+string(rune('a'+i%26)))
	}
	msg := strings.Join(lines, "\n")
	hostLog(f, abi.LogError, msg)
	if len(f.logs) < 3 {
		t.Fatalf("%d log calls for %d bytes", len(f.logs), len(msg))
	}
	var joined []string
	for _, l := range f.logs {
		if len(l.msg) > abi.MaxLogLine {
			t.Errorf("a %d-byte line", len(l.msg))
		}
		joined = append(joined, l.msg)
	}
	if strings.Join(joined, "\n") != msg {
		t.Error("split lines do not add up to the message")
	}
	f.logs = nil
	hostLog(f, abi.LogInfo, strings.Repeat("y", abi.MaxLogLine*2+1))
	if len(f.logs) != 3 || len(f.logs[0].msg) != abi.MaxLogLine {
		t.Errorf("a message without line breaks: %d calls", len(f.logs))
	}
}
