// Package volume owns a Ferry volume directory: its layout on disk, the
// FERRY marker, the exclusive LOCK, and the assembly of the metadata store,
// the object store and the metadata service over them.
//
// A volume directory holds:
//
//	FERRY     JSON marker: magic, format version, uuid, block size, created
//	LOCK      flock'd exclusively by the one process that has the volume open;
//	          it holds that process's pid, for error messages
//	meta/     the metadata store (Pebble)
//	objects/  the object store (one file per object)
//	ferry.log output of a mount running in the background
//
// FERRY is written last when a volume is formatted, so a directory with
// FERRY is a complete volume. A format interrupted before that is resumed by
// the next Open with Create.
//
// A volume may instead live in a metadata engine (engine.go): the engine's
// URL names it, its volume record holds its name, uuid, block size and the
// URL of its object store, and the engine's lock, where it has one, takes
// the place of LOCK. stores.go maps URLs to stores, for both kinds.
//
// A Volume is not safe for use after Close; its fields are safe for
// concurrent use as their own types are.
package volume
