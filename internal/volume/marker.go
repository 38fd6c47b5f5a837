package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Names inside a volume directory.
const (
	MarkerFile = "FERRY"
	LockFile   = "LOCK"
	MetaDir    = "meta"
	ObjectsDir = "objects"
	LogFile    = "ferry.log"
)

// Magic is the marker's magic string.
const Magic = "ferry-volume"

// FormatVersion is the version of the volume layout this program writes
// and the newest it opens.
const FormatVersion = 1

// Marker is the content of the FERRY file.
type Marker struct {
	Magic     string    `json:"magic"`
	Version   int       `json:"version"`
	UUID      string    `json:"uuid"`
	BlockSize int       `json:"block_size"`
	Created   time.Time `json:"created"`
}

// ReadMarker reads and checks dir's FERRY file without opening or locking
// the volume. A directory without FERRY is ErrNotVolume (and, if the
// directory itself is missing, ErrNotExist); a marker from a newer format
// is ErrNewerFormat, though the Marker is still returned.
func ReadMarker(dir string) (Marker, error) {
	data, err := os.ReadFile(filepath.Join(dir, MarkerFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return Marker{}, kindErrorf(ErrNotExist, err, "volume %s does not exist", dir)
		}
		return Marker{}, kindErrorf(ErrNotVolume, nil, "%s is not a Ferry volume (no %s file)", dir, MarkerFile)
	}
	if err != nil {
		return Marker{}, ioError(dir, "read "+MarkerFile, err)
	}
	var m Marker
	if err := json.Unmarshal(data, &m); err != nil || m.Magic != Magic {
		return Marker{}, kindErrorf(ErrNotVolume, err, "%s is not a Ferry volume (%s is not a volume marker)", dir, MarkerFile)
	}
	if m.Version > FormatVersion {
		return m, kindErrorf(ErrNewerFormat, nil,
			"volume %s has format version %d; this ferry reads versions up to %d", dir, m.Version, FormatVersion)
	}
	if m.Version < 1 || m.UUID == "" || m.BlockSize <= 0 {
		return m, kindErrorf(ErrNotVolume, nil, "%s is not a Ferry volume (%s is incomplete)", dir, MarkerFile)
	}
	return m, nil
}

// writeMarker writes FERRY atomically and durably: a temporary file,
// fsync, rename, fsync of the directory.
func writeMarker(dir string, m Marker) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("volume %s: encode %s: %w", dir, MarkerFile, err)
	}
	data = append(data, '\n')
	tmp := filepath.Join(dir, MarkerFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return ioError(dir, "write "+MarkerFile, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, MarkerFile))
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		os.Remove(tmp)
		return ioError(dir, "write "+MarkerFile, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// ownNames are the entries a volume directory may hold before FERRY
// exists: what an interrupted format leaves, plus what a fresh file
// system puts in an empty one.
var ownNames = map[string]bool{
	LockFile: true, MetaDir: true, ObjectsDir: true, LogFile: true,
	MarkerFile + ".tmp": true, "lost+found": true,
}

// formattable reports whether dir, which has no FERRY, holds nothing but
// what formatting a volume there would create. Format creates LOCK before
// meta/ and objects/, so those two count as Ferry's only next to a LOCK.
func formattable(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	names := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !ownNames[e.Name()] {
			return false, nil
		}
		names[e.Name()] = true
	}
	if (names[MetaDir] || names[ObjectsDir]) && !names[LockFile] {
		return false, nil
	}
	return true, nil
}
