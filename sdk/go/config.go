package wedge

var configScratch = scratch{}

const configScratchSize = 256

// Config returns the function's configuration variable key and whether it
// is set. Variables come from the function's deployment. The host also
// puts them in the process environment, but the Go runtime reads that once
// when the module initializes (which the host may do at deploy time, see
// README.md), while Config asks the host on every call.
func Config(key string) (string, bool) {
	configScratch.mu.Lock()
	defer configScratch.mu.Unlock()
	buf := configScratch.get(configScratchSize)
	for range sizeRetries {
		n := sys.configGet(key, buf)
		if n < 0 {
			return "", false
		}
		if int(n) <= len(buf) {
			return string(buf[:n]), true
		}
		buf = configScratch.get(int(n))
	}
	return "", false
}
