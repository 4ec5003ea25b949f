package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// FetchOptions limit what href messages may fetch.
type FetchOptions struct {
	// Timeout bounds one fetch (default 10s).
	Timeout time.Duration
	// MaxBytes is the largest document fetched (default 16 MiB).
	MaxBytes int64
	// AllowLinkLocal permits http(s) hrefs that resolve to link-local and
	// cloud metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254),
	// which are refused by default.
	AllowLinkLocal bool
	// FileRoots are the directories file:// hrefs may read from; none
	// (the default) refuses file:// hrefs.
	FileRoots []string
	// Client overrides the HTTP client (its transport must enforce the
	// address policy itself).
	Client *http.Client
}

// Fetcher reads the documents href messages point to.
type Fetcher struct {
	opts   FetchOptions
	client *http.Client
	roots  []string
}

// NewFetcher returns a fetcher that enforces opts.
func NewFetcher(opts FetchOptions) *Fetcher {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 16 << 20
	}
	f := &Fetcher{opts: opts, client: opts.Client}
	for _, r := range opts.FileRoots {
		if abs, err := filepath.Abs(r); err == nil {
			if resolved, err := filepath.EvalSymlinks(abs); err == nil {
				abs = resolved
			}
			f.roots = append(f.roots, filepath.Clean(abs))
		}
	}
	if f.client == nil {
		dialer := &net.Dialer{Timeout: opts.Timeout, Control: f.checkAddr}
		tr := &http.Transport{
			Proxy:                 nil, // a proxy would hide the address we must check
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   opts.Timeout,
			ResponseHeaderTimeout: opts.Timeout,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
		}
		f.client = &http.Client{Transport: tr, Timeout: opts.Timeout}
	}
	return f
}

// ErrAddressRefused marks an href resolving to a refused address.
var ErrAddressRefused = errors.New("address refused")

var metadataV6 = netip.MustParseAddr("fd00:ec2::254")

// checkAddr runs after DNS resolution for every connection (redirects
// included), so a hostname cannot smuggle a refused address.
func (f *Fetcher) checkAddr(_, address string, _ syscall.RawConn) error {
	if f.opts.AllowLinkLocal {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip == metadataV6 {
		return fmt.Errorf("%w: %s is a link-local or cloud metadata address", ErrAddressRefused, ip)
	}
	return nil
}

// Fetch returns the document at href, or a Failure saying whether trying
// again may help.
func (f *Fetcher) Fetch(ctx context.Context, href string) ([]byte, *Failure) {
	u, err := url.Parse(href)
	if err != nil || u.Scheme == "" {
		return nil, permanent(ReasonHrefRefused, "href %q is not an absolute URL", href)
	}
	switch u.Scheme {
	case "http", "https":
		return f.fetchHTTP(ctx, href)
	case "file":
		return f.fetchFile(u)
	case "s3":
		return nil, permanent(ReasonUnsupported, "%s: s3:// hrefs are not supported yet", href)
	default:
		return nil, permanent(ReasonHrefRefused, "%s: unsupported scheme %q (want http, https or file)", href, u.Scheme)
	}
}

func (f *Fetcher) fetchHTTP(ctx context.Context, href string) ([]byte, *Failure) {
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, href, nil)
	if err != nil {
		return nil, permanent(ReasonHrefRefused, "%s: %v", href, err)
	}
	req.Header.Set("Accept", "application/geo+json, application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrAddressRefused) {
			return nil, permanent(ReasonHrefRefused, "%s: %v", href, err)
		}
		return nil, transient(ReasonFetch, fmt.Errorf("%s: %w", href, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, transient(ReasonFetch, fmt.Errorf("%s: HTTP %s", href, resp.Status))
	default:
		return nil, permanent(ReasonFetch, "%s: HTTP %s", href, resp.Status)
	}
	if resp.ContentLength > f.opts.MaxBytes {
		return nil, permanent(ReasonOversized, "%s: %d bytes, larger than the limit of %d", href, resp.ContentLength, f.opts.MaxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, transient(ReasonFetch, fmt.Errorf("%s: %w", href, err))
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, permanent(ReasonOversized, "%s: larger than the limit of %d bytes", href, f.opts.MaxBytes)
	}
	return body, nil
}

func (f *Fetcher) fetchFile(u *url.URL) ([]byte, *Failure) {
	href := u.String()
	if len(f.roots) == 0 {
		return nil, permanent(ReasonHrefRefused, "%s: file:// hrefs are disabled (allow a directory with --ingest-file-root)", href)
	}
	if u.Host != "" && u.Host != "localhost" {
		return nil, permanent(ReasonHrefRefused, "%s: file:// hrefs must name a local path", href)
	}
	p, err := filepath.Abs(filepath.FromSlash(u.Path))
	if err != nil {
		return nil, permanent(ReasonHrefRefused, "%s: %v", href, err)
	}
	if resolved, err := filepath.EvalSymlinks(p); err == nil {
		p = resolved
	}
	if !f.underRoot(p) {
		return nil, permanent(ReasonHrefRefused, "%s: outside the allowed file roots", href)
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, permanent(ReasonFetch, "%s: %v", href, err)
	}
	defer fh.Close()
	body, err := io.ReadAll(io.LimitReader(fh, f.opts.MaxBytes+1))
	if err != nil {
		return nil, transient(ReasonFetch, fmt.Errorf("%s: %w", href, err))
	}
	if int64(len(body)) > f.opts.MaxBytes {
		return nil, permanent(ReasonOversized, "%s: larger than the limit of %d bytes", href, f.opts.MaxBytes)
	}
	return body, nil
}

func (f *Fetcher) underRoot(p string) bool {
	for _, r := range f.roots {
		if p == r || strings.HasPrefix(p, r+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
