# A clan whose three services talk through exports: registry -> client, mesh <-> mesh.
{
  inputs.clan-core.url = "git+https://example.invalid/clan-core";
  outputs = inputs: inputs.flake-parts.lib.mkFlake { inherit inputs; } { imports = [ ./flake-parts ]; };
}
