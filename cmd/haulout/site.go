package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/haulout/haulout/chain"
	"github.com/haulout/haulout/chain/ledgerhttp"
	"github.com/haulout/haulout/client"
	"github.com/haulout/haulout/site"
)

func siteCommand() command {
	return command{
		name:    "site",
		args:    "deploy DIR | info SITE_ID",
		summary: "publish a static site, update it in place, or show one",
		help: `'site deploy DIR' publishes the files under DIR as a static site: their
contents as quilts (each file's identifier is its path, e.g. /index.html), and
a manifest (path -> patch ID, headers, SHA-256; routes; redirects) as a blob.
It prints the site ID, which never changes. DIR/ws-resources.json (or
--ws-resources FILE), with Walrus's keys, sets headers, routes (client-side
routing), redirects, metadata, site_name, object_id and files to ignore.

Deploying again with --site-id (or object_id in ws-resources.json) updates
the site in place: only files whose content changed are uploaded, and every
blob of the site is extended to last --epochs epochs from now. Readers see
the old site until the new manifest is complete.

The aggregator serves sites, with no separate portal, at
/sites/SITE_ID/PATH and at http://BASE36_ID.localhost:PORT/PATH; '/' is
/index.html, then redirects, routes, and the site's /404.html (status 404).

'site info SITE_ID' prints a site's manifest (the ID in 0x hex or base36).

Example:
  haulout site deploy ./public --epochs 5
  haulout site deploy ./public --site-id 0x5f1c... --epochs max
  haulout site info 0x5f1c... --json`,
		new: newSiteConfig,
	}
}

// siteConfig is the configuration of `haulout site`.
type siteConfig struct {
	// SiteID names the site to update (deploy) or show (info, when not
	// given as an argument).
	SiteID string
	// Epochs is how long, from now, every blob of a deployed site lasts.
	Epochs epochsValue
	// WSResources is the ws-resources.json to use instead of DIR's.
	WSResources string
	// Publisher, Aggregator and Ledger are the services' URLs.
	Publisher, Aggregator, Ledger string
	// JSON prints machine-readable output.
	JSON bool
}

func newSiteConfig(fs *flag.FlagSet) runner {
	cfg := &siteConfig{Epochs: epochsValue{n: 5}}
	fs.StringVar(&cfg.SiteID, "site-id", "", "update the site `ID` (0x hex or base36) instead of creating one")
	fs.Var(&cfg.Epochs, "epochs", "store every blob of the site for `N` epochs from now (or max)")
	fs.StringVar(&cfg.WSResources, "ws-resources", "", "read headers, routes, redirects, ... from `FILE` (default DIR/ws-resources.json)")
	publisherVar(fs, &cfg.Publisher)
	aggregatorVar(fs, &cfg.Aggregator)
	ledgerVar(fs, &cfg.Ledger)
	jsonVar(fs, &cfg.JSON)
	return cfg
}

func (cfg *siteConfig) run(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usagef("want 'deploy DIR' or 'info SITE_ID'")
	}
	ctx, stop := signalContext(ctx)
	defer stop()
	switch args[0] {
	case "deploy":
		if len(args) != 2 {
			return usagef("deploy wants one DIR; got %d arguments", len(args)-1)
		}
		return cfg.deploy(ctx, c, args[1])
	case "info":
		switch {
		case len(args) == 2:
			return cfg.info(ctx, c, args[1])
		case len(args) == 1 && cfg.SiteID != "":
			return cfg.info(ctx, c, cfg.SiteID)
		}
		return usagef("info wants one SITE_ID")
	}
	return usagef("unknown site command %q: want deploy or info", args[0])
}

func (cfg *siteConfig) network() *site.HTTPNetwork {
	return &site.HTTPNetwork{
		Publisher:  &client.Publisher{URL: cfg.Publisher},
		Aggregator: &client.Aggregator{URL: cfg.Aggregator},
	}
}

// deployOptions are the options of deploying dir; --epochs max (as in a
// config file that serves every command) is the ledger's limit.
func (cfg *siteConfig) deployOptions(dir string) site.DeployOptions {
	return site.DeployOptions{Dir: dir, WSResources: cfg.WSResources, Epochs: cfg.Epochs.n, MaxEpochs: cfg.Epochs.max}
}

func (cfg *siteConfig) deploy(ctx context.Context, c *cli, dir string) error {
	opts := cfg.deployOptions(dir)
	if cfg.SiteID != "" {
		id, err := site.ParseSiteID(cfg.SiteID)
		if err != nil {
			return fmt.Errorf("--site-id: %w", err)
		}
		opts.SiteID = &id
	}
	d := &site.Deployer{
		Network: cfg.network(),
		Ledger:  ledgerhttp.NewClient(cfg.Ledger),
		Logger:  slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	res, err := d.Deploy(ctx, opts)
	if err != nil {
		return err
	}
	if cfg.JSON {
		return writeJSON(c.stdout, res)
	}
	verb := "updated"
	switch {
	case res.Created:
		verb = "created"
	case !res.ManifestChanged:
		verb = "unchanged"
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "site %s %s\n", res.SiteID, verb)
	fmt.Fprintf(w, "  base36\t%s\n", res.Base36)
	fmt.Fprintf(w, "  manifest\t%s\n", res.ManifestID)
	fmt.Fprintf(w, "  files\t%d uploaded, %d unchanged, %d removed\n", len(res.Uploaded), len(res.Unchanged), len(res.Removed))
	fmt.Fprintf(w, "  stored until\tepoch %d\n", res.EndEpoch)
	for i, u := range siteURLs(cfg.Aggregator, res.SiteID) {
		label := ""
		if i == 0 {
			label = "  browse"
		}
		fmt.Fprintf(w, "%s\t%s\n", label, u)
	}
	if res.Created {
		fmt.Fprintf(w, "  update with\thaulout site deploy %s --site-id %s\n", dir, res.SiteID)
	}
	return w.Flush()
}

// siteURLs are where the aggregator serves a site: by host (a subdomain
// of localhost when the aggregator is on loopback) and by path.
func siteURLs(aggregator string, id chain.ObjectID) []string {
	u, err := url.Parse(strings.TrimSuffix(aggregator, "/"))
	if err != nil || u.Host == "" {
		return nil
	}
	var out []string
	host, port := u.Hostname(), u.Port()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		h := site.Base36(id) + ".localhost"
		if port != "" {
			h = net.JoinHostPort(h, port)
		}
		out = append(out, u.Scheme+"://"+h+"/")
	}
	return append(out, u.String()+"/sites/"+id.String()+"/")
}

func (cfg *siteConfig) info(ctx context.Context, c *cli, raw string) error {
	id, err := site.ParseSiteID(raw)
	if err != nil {
		return err
	}
	m, mid, err := site.Load(ctx, ledgerhttp.NewClient(cfg.Ledger), cfg.network(), id)
	if err != nil {
		return err
	}
	if cfg.JSON {
		return writeJSON(c.stdout, struct {
			SiteID     chain.ObjectID `json:"siteId"`
			Base36     string         `json:"base36"`
			ManifestID string         `json:"manifestId"`
			Manifest   *site.Manifest `json:"manifest"`
		}{id, site.Base36(id), mid.String(), m})
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "site %s %q\n  base36\t%s\n  manifest\t%s\n", id, m.Name, site.Base36(id), mid)
	fmt.Fprintf(w, "\nPATH\tSIZE\tCONTENT-TYPE\tPATCH\n")
	for _, r := range m.Resources {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", r.Path, r.Size, r.Headers["content-type"], r.Patch)
	}
	if len(m.Routes) > 0 {
		fmt.Fprintf(w, "\nROUTE\tTARGET\n")
		for _, rt := range m.Routes {
			fmt.Fprintf(w, "%s\t%s\n", rt.Pattern, rt.Target)
		}
	}
	if len(m.Redirects) > 0 {
		fmt.Fprintf(w, "\nREDIRECT\tSTATUS\tLOCATION\n")
		for _, rd := range m.Redirects {
			fmt.Fprintf(w, "%s\t%d\t%s\n", rd.Pattern, rd.Status, rd.Location)
		}
	}
	return w.Flush()
}
