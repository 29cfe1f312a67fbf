{
  description = "A small stand-in for clan-core: its services registered the way clan-core does";

  inputs.flake-parts.url = "github:hercules-ci/flake-parts";

  outputs =
    inputs@{ flake-parts, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } (
      { lib, ... }:
      {
        systems = [ "x86_64-linux" ];
        imports = lib.filter builtins.pathExists [
          ./clanServices/flake-module.nix
        ];
      }
    );
}
