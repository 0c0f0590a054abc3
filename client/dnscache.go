package client

import (
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Limits of the Windows DNS client cache (HKLM\SYSTEM\CurrentControlSet\
// Services\Dnscache\Parameters). MaxCacheTtl is 86,400 s and
// MaxNegativeCacheTtl 900 s on Windows XP and later (Windows 2000 used
// NegativeCacheTime, 300 s). Source tag [DNSCACHE]: third-party registry
// references (smallvoid.com/article/winnt-dns-negative-reply.html,
// blog.wsiddique.com "Tuning DNS Caching under Microsoft Windows"); not
// read on a Microsoft page, so treat the values as medium confidence.
const (
	MaxCacheTTL         = 86400 * time.Second
	MaxNegativeCacheTTL = 900 * time.Second
)

// dnsCache is the Windows DNS client cache: positive answers for their TTL
// and negative answers (NXDOMAIN, NODATA) for the SOA minimum (RFC 2308),
// each capped by the registry limits. Entries expire on the machine clock,
// which the lab can advance. SERVFAIL, REFUSED and timeouts are not cached.
type dnsCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	addrs   []netip.Addr // nil for a negative entry
	reason  string       // NXDOMAIN or NODATA for a negative entry
	expires time.Time
}

func newDNSCache() *dnsCache { return &dnsCache{entries: map[string]cacheEntry{}} }

func cacheKey(host string) string { return strings.ToLower(strings.TrimSuffix(host, ".")) }

// get returns the live entry for host at now.
func (c *dnsCache) get(host string, now time.Time) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[cacheKey(host)]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(c.entries, cacheKey(host))
		return cacheEntry{}, false
	}
	return e, true
}

// putPositive caches addresses for ttl, capped by MaxCacheTTL.
func (c *dnsCache) putPositive(host string, addrs []netip.Addr, ttl time.Duration, now time.Time) {
	c.put(host, cacheEntry{addrs: addrs}, min(ttl, MaxCacheTTL), now)
}

// putNegative caches a negative answer for ttl, capped by
// MaxNegativeCacheTTL.
func (c *dnsCache) putNegative(host, reason string, ttl time.Duration, now time.Time) {
	c.put(host, cacheEntry{reason: reason}, min(ttl, MaxNegativeCacheTTL), now)
}

func (c *dnsCache) put(host string, e cacheEntry, ttl time.Duration, now time.Time) {
	if ttl <= 0 {
		return
	}
	e.expires = now.Add(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[cacheKey(host)] = e
}

// flush empties the cache (ipconfig /flushdns).
func (c *dnsCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

// CacheEntry is one entry of the DNS cache as ipconfig /displaydns shows it.
type CacheEntry struct {
	Host     string       `json:"host"`
	Addrs    []netip.Addr `json:"addrs,omitempty"`
	Negative string       `json:"negative,omitempty"` // NXDOMAIN or NODATA
	Expires  time.Time    `json:"expires"`
}

// snapshot lists the live entries at now.
func (c *dnsCache) snapshot(now time.Time) []CacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []CacheEntry
	for h, e := range c.entries {
		if now.Before(e.expires) {
			out = append(out, CacheEntry{Host: h, Addrs: e.addrs, Negative: e.reason, Expires: e.expires})
		}
	}
	return out
}
