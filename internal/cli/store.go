package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/volume"
)

// openStore opens, for a remote mount, the object store its service names
// (wire.HelloReply.Data), so that file data need not pass through the
// service. Only stores made to be shared over a network qualify; the
// credentials are this machine's own (the AWS environment and profiles).
func openStore(ctx context.Context, url string) (blob.Store, error) {
	if !volume.Shared(url) {
		return nil, fmt.Errorf("object store %s: not a kind this client reaches itself", url)
	}
	return volume.OpenBlob(ctx, url, slog.New(slog.DiscardHandler))
}
