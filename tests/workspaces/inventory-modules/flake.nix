# A clan repository as authors lay it out: the clan lives in flake-parts/default.nix.
{
  inputs.clan-core.url = "git+https://example.invalid/clan-core";
  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } { imports = [ ./flake-parts ]; };
}
