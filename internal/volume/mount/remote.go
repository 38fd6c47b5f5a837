package mount

import (
	"context"

	"github.com/ferryfs/ferry/internal/chunk"
	"github.com/ferryfs/ferry/internal/client"
	"github.com/ferryfs/ferry/internal/fusefs"
)

var _ fusefs.Meta = (*client.Client)(nil)
var _ fusefs.Lessee = (*client.Client)(nil)

// StartRemote mounts the volume a service serves, reached through the
// session c, on dir. The kernel caches names and attributes for an hour,
// kept right by the service's recalls; missing names for the lease period.
// File data goes to the volume's object store directly when opts.OpenStore
// reaches the store the service names, else through the service; the mount
// keeps its own bounded cache of it.
func StartRemote(ctx context.Context, c *client.Client, source, dir string, opts Options) (*Mount, error) {
	opts = opts.withDefaults()
	dir, err := CheckMountPoint(dir)
	if err != nil {
		return nil, err
	}
	data := chunk.New(opts.objects(c.DataStore(ctx, opts.OpenStore)), c, chunk.Options{
		BlockSize:  int(c.Hello().BlockSize),
		CacheBytes: opts.CacheBytes,
		DirtyBytes: opts.DirtyBytes,
		Uploads:    opts.Uploads,
		Logger:     opts.Logger.With("component", "chunk"),
	})
	srv, err := fusefs.Mount(dir, c, data, fusefs.Options{
		FsName:          "ferry:" + source,
		NegativeTimeout: c.LeasePeriod(),
		CommitOnClose:   true,
		AdaptiveProcs:   opts.AdaptiveProcs,
		Debug:           opts.Debug,
		Logger:          opts.Logger.With("component", "fusefs"),
		Wrap:            opts.WrapFS,
	})
	if err != nil {
		data.Close()
		return nil, err
	}
	c.Attach(srv, data)
	m := &Mount{Dir: dir, Data: data, Server: srv, syncMeta: c.Sync, log: opts.Logger, done: make(chan struct{})}
	go func() {
		srv.Wait()
		close(m.done)
	}()
	return m, nil
}
