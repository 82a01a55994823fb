package wasmpool

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

func TestWithDefaults(t *testing.T) {
	got := PoolConfig{}.WithDefaults()
	if got != DefaultPoolConfig() {
		t.Fatalf("zero config = %+v, want %+v", got, DefaultPoolConfig())
	}
	got = PoolConfig{TotalCoreInstances: 4, TotalTables: 9}.WithDefaults()
	if got.TotalMemories != 4 || got.TotalGCHeaps != 4 || got.TotalTables != 9 || got.MaxMemoryBytes != 128<<20 {
		t.Fatalf("partial config = %+v", got)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  PoolConfig
		ok   bool
	}{
		{"defaults", PoolConfig{}, true},
		{"max memory equals reservation", PoolConfig{TotalCoreInstances: 2, MaxMemoryBytes: 4 << 30}, true},
		{"max memory above reservation", PoolConfig{MaxMemoryBytes: 8 << 30}, false},
		{"max memory above small reservation", PoolConfig{MaxMemoryBytes: 256 << 20, MemoryReservation: 128 << 20}, false},
		{"unaligned max memory", PoolConfig{MaxMemoryBytes: 100_000}, false},
		{"unaligned reservation", PoolConfig{MaxMemoryBytes: 64 << 10, MemoryReservation: 100_000}, false},
		{"too much address space", PoolConfig{TotalCoreInstances: 20_000}, false},
		{"many small slots", PoolConfig{TotalCoreInstances: 20_000, MemoryReservation: 128 << 20}, true},
		{"overflowing", PoolConfig{TotalCoreInstances: 1<<32 - 1, TableElements: 1 << 62}, false},
	} {
		err := c.cfg.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v does not wrap ErrInvalidConfig", c.name, err)
		}
		// EnablePooling refuses the same configurations, before wasmtime
		// (which would abort the process) sees them.
		cfg := wasmtime.NewConfig()
		if err2 := EnablePooling(cfg, c.cfg); (err2 == nil) != c.ok {
			t.Errorf("%s: EnablePooling = %v", c.name, err2)
		}
		cfg.Close()
	}
}

func TestEnablePoolingOnUsedConfig(t *testing.T) {
	cfg := wasmtime.NewConfig()
	wasmtime.NewEngineWithConfig(cfg).Close()
	if err := EnablePooling(cfg, PoolConfig{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("EnablePooling on a consumed config = %v, want ErrClosed", err)
	}
}

// TestDefaultPool builds an engine with the default configuration (about
// 4 TiB of reserved address space) and runs an instance in it.
func TestDefaultPool(t *testing.T) {
	pool := DefaultPoolConfig()
	e := newEngine(t, &pool, true)
	pre := newPre(t, newLinker(t, e), compile(t, e, guestWAT))
	s := wasmtime.NewStore(e)
	defer s.Close()
	s.SetEpochDeadline(1)
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, s, inst, "run", int32(1)); got != 43 {
		t.Fatalf("run = %d", got)
	}
	t.Logf("default pool reserves about %d GiB of address space", pool.ReservedAddressSpace()>>30)
}

// TestReservedAddressSpace compares the estimate with what the engine
// actually maps, read from /proc/self/status.
func TestReservedAddressSpace(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc")
	}
	for _, pool := range []PoolConfig{
		{TotalCoreInstances: 64},
		{TotalCoreInstances: 256, MemoryReservation: 128 << 20},
		{TotalCoreInstances: 100, TableElements: 1 << 20},
	} {
		want := int64(pool.ReservedAddressSpace())
		// Mappings made or released meanwhile by others (Go heap arenas,
		// engines of earlier tests released by finalizers) are noise; the
		// measurement is retried a bounded number of times.
		var got int64
		for range 5 {
			runtime.GC()
			before := vmSize(t)
			cfg := wasmtime.NewConfig()
			if err := EnablePooling(cfg, pool); err != nil {
				t.Fatal(err)
			}
			e := wasmtime.NewEngineWithConfig(cfg)
			got = int64(vmSize(t) - before)
			e.Close()
			if d := got - want; d < 128<<20 && -d < 128<<20 {
				break
			}
		}
		t.Logf("%+v: mapped %d MiB, estimated %d MiB", pool, got>>20, want>>20)
		if d := got - want; d > want/20 || -d > want/20 {
			t.Errorf("estimate %d MiB is far from the %d MiB mapped", want>>20, got>>20)
		}
	}
}

func vmSize(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmSize in /proc/self/status")
	return 0
}

// TestSerializedModulesStillLoad checks that enabling the pool does not
// change compilation settings: a module serialized by an engine with the
// default allocator (as in an existing artifact cache) deserializes in a
// pooling engine and runs from an InstancePre.
func TestSerializedModulesStillLoad(t *testing.T) {
	plain := newEngine(t, nil, true)
	art, err := compile(t, plain, guestWAT).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	pool := testPool()
	e := newEngine(t, &pool, true)
	m, err := wasmtime.NewModuleDeserialize(e, art)
	if err != nil {
		t.Fatalf("deserialize in pooling engine: %v", err)
	}
	defer m.Close()
	pre := newPre(t, newLinker(t, e), m)
	s := wasmtime.NewStore(e)
	defer s.Close()
	s.SetEpochDeadline(1)
	inst, err := pre.Instantiate(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := call(t, s, inst, "run", int32(2)); got != 44 {
		t.Fatalf("run = %d", got)
	}
}
