package kong

import (
	"errors"

	"github.com/aiproxy/aiproxy/vault"
)

// LoadOptions configure Load.
type LoadOptions struct {
	// Options say how the file is read (see Parse). Their LookupEnv also reads Kong's
	// KONG_VAULT_HCV_* variables.
	Options
	// ConfigureVault, when set, is called with each HashiCorp Vault entity's prefix and
	// configuration before its resolver is built, to set what a Kong file cannot say (the Go
	// fields of vault.Config: TLS, HTTPClient, Logger, Address) or to override a field.
	ConfigureVault func(prefix string, cfg *vault.Config)
}

// LoadFile reads and loads a file; see Load.
func LoadFile(path string, opts LoadOptions) (*File, error) {
	return LoadFiles([]string{path}, opts)
}

// LoadFiles reads and loads several files as one configuration, merged as ParseFiles merges
// them: the vault entities of every file serve the references of every plugin, so a decK file
// and a file of its vaults load together. See Load.
func LoadFiles(paths []string, opts LoadOptions) (*File, error) {
	f, err := ParseFiles(paths, opts.Options)
	if err != nil {
		return nil, err
	}
	if err := f.build(opts); err != nil {
		return nil, err
	}
	return f, nil
}

// Load parses data (see Parse) and builds the secret resolvers its vault entities describe:
// a vault.Resolver for each HashiCorp Vault entity (name: hcv) and an environment resolver for
// each env entity with a config.prefix, set in every plugin's Config.Vaults under the entity's
// prefix, so {vault://<prefix>/...} references resolve. Kong's configuration of its default
// HashiCorp Vault by environment (KONG_VAULT_HCV_HOST, KONG_VAULT_HCV_TOKEN, ...) fills the
// fields an hcv entity leaves unset, and without an entity serves the prefix "hcv".
//
// Each plugin gets resolvers of its own: aiproxy.New takes ownership of them and its Close
// closes them. Close the File to release those of plugins not given to New (closing twice is
// harmless). Load does no I/O beyond reading environment variables: Vault is first contacted
// when a reference is resolved (see aiproxy.Config.StrictSecrets).
func Load(data []byte, opts LoadOptions) (*File, error) {
	f, err := Parse(data, opts.Options)
	if err != nil {
		return nil, err
	}
	if err := f.build(opts); err != nil {
		return nil, err
	}
	return f, nil
}

// build gives each plugin resolvers of its own for the file's vault entities. On error, what
// was built is closed.
func (f *File) build(opts LoadOptions) error {
	for i := range f.Plugins {
		vaults, err := buildVaults(f.Vaults, opts)
		if err != nil {
			f.Close()
			return err
		}
		f.built = append(f.built, vaults)
		if len(vaults) > 0 {
			f.Plugins[i].Config.Vaults = vaults
		}
	}
	return nil
}

// Close closes the resolvers Load built. Their proxies must not be used afterwards.
func (f *File) Close() error {
	var errs []error
	for _, vaults := range f.built {
		errs = append(errs, closeAll(vaults))
	}
	return errors.Join(errs...)
}
