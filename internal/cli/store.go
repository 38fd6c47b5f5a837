package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferryfs/ferry/internal/blob"
	"github.com/ferryfs/ferry/internal/blob/s3blob"
)

// openStore opens, for a remote mount, the object store its service names
// (wire.HelloReply.Data), so that file data need not pass through the
// service. Only stores made to be shared over a network qualify; the
// credentials are this machine's own (the AWS environment and profiles).
func openStore(ctx context.Context, url string) (blob.Store, error) {
	if strings.HasPrefix(url, "s3://") {
		return s3blob.Open(ctx, url, s3blob.Options{})
	}
	return nil, fmt.Errorf("object store %s: not a kind this client reaches itself", url)
}
