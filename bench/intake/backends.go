package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vigil-hr/vigil/internal/datadir"
	"github.com/vigil-hr/vigil/internal/pgtest"
	"github.com/vigil-hr/vigil/internal/s3test"
)

// servers finds or starts the PostgreSQL and S3 servers b.backends need and
// returns a function stopping what it started and dropping the databases
// the phases made.
func (b *bench) servers(pgURL, s3URL string) (stop func(), err error) {
	var stops []func()
	stop = func() {
		if b.pgAdmin != "" && len(b.dbs) > 0 {
			ctx := context.Background()
			if c, err := pgx.Connect(ctx, b.pgAdmin); err == nil {
				for _, db := range b.dbs {
					c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
				}
				c.Close(ctx)
			}
		}
		for _, s := range slices.Backward(stops) {
			s()
		}
	}
	if slices.Contains(b.backends, "postgres") || slices.Contains(b.backends, "postgres+s3") {
		if pgURL == "" {
			bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
			slices.Sort(bins)
			bin := ""
			if p, err := exec.LookPath("initdb"); err == nil {
				bin = filepath.Dir(p)
			} else if len(bins) > 0 {
				bin = bins[len(bins)-1]
			} else {
				return stop, fmt.Errorf("no PostgreSQL: give -postgres URL, or install the server (initdb on PATH or in /usr/lib/postgresql/*/bin)")
			}
			c, err := pgtest.Start(bin, true) // fsync on, as SQLite's
			if err != nil {
				return stop, fmt.Errorf("start PostgreSQL: %w", err)
			}
			stops = append(stops, c.Stop)
			pgURL = c.URL
			fmt.Printf("PostgreSQL: a throwaway cluster from %s, fsync on, unix socket\n", bin)
		}
		b.pgAdmin = pgURL
	}
	if slices.Contains(b.backends, "postgres+s3") {
		if s3URL == "" {
			bin, err := exec.LookPath("weed")
			if err != nil {
				return stop, fmt.Errorf("no S3 server: give -s3 URL, or put SeaweedFS's weed on PATH")
			}
			s, err := s3test.Start(bin)
			if err != nil {
				return stop, fmt.Errorf("start SeaweedFS: %w", err)
			}
			stops = append(stops, s.Stop)
			s3URL = s.Endpoint.String()
			fmt.Printf("S3: SeaweedFS (%s) on loopback\n", bin)
		}
		u, err := url.Parse(s3URL)
		if err != nil || u.User == nil || (u.Scheme != "http" && u.Scheme != "https") {
			return stop, fmt.Errorf("-s3: want http[s]://KEY:SECRET@host:port")
		}
		b.s3Endpoint = u
		secret, _ := u.User.Password()
		c, err := minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(u.User.Username(), secret, ""),
			Secure: u.Scheme == "https", BucketLookup: minio.BucketLookupPath})
		if err != nil {
			return stop, err
		}
		b.s3Bucket = "vigilbench-" + randHex(6)
		if err := c.MakeBucket(context.Background(), b.s3Bucket, minio.MakeBucketOptions{}); err != nil {
			return stop, fmt.Errorf("make bucket: %w", err)
		}
		stops = append(stops, func() {
			ctx := context.Background()
			for o := range c.ListObjects(ctx, b.s3Bucket, minio.ListObjectsOptions{Recursive: true}) {
				if o.Err == nil {
					c.RemoveObject(ctx, b.s3Bucket, o.Key, minio.RemoveObjectOptions{})
				}
			}
			c.RemoveBucket(ctx, b.s3Bucket)
		})
	}
	return stop, nil
}

// backendURLs returns the store and blob URLs of the running phase's
// backend: a new database and a new bucket prefix for phase.
func (b *bench) backendURLs(phase string) (datadir.Backends, error) {
	var be datadir.Backends
	if b.backend == "sqlite" || b.backend == "" {
		return be, nil
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, b.pgAdmin)
	if err != nil {
		return be, err
	}
	defer c.Close(ctx)
	db := "vigilbench_" + randHex(6)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return be, err
	}
	b.dbs = append(b.dbs, db)
	u, err := url.Parse(b.pgAdmin)
	if err != nil {
		return be, err
	}
	u.Path = "/" + db
	be.Store = u.String()
	if b.backend == "postgres+s3" {
		scheme := "s3+http"
		if b.s3Endpoint.Scheme == "https" {
			scheme = "s3"
		}
		bu := url.URL{Scheme: scheme, User: b.s3Endpoint.User, Host: b.s3Endpoint.Host, Path: "/" + b.s3Bucket + "/" + phase}
		be.Blobs = bu.String()
	}
	return be, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// fileBody returns n random bytes (ciphertext does not compress either).
func fileBody(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
