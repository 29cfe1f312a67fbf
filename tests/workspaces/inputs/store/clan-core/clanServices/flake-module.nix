{ ... }:
{
  imports =
    let
      entries = builtins.readDir ./.;
      folders = builtins.filter (
        name: entries.${name} == "directory" && builtins.pathExists (./. + "/${name}/flake-module.nix")
      ) (builtins.attrNames entries);
    in
    map (name: ./. + "/${name}/flake-module.nix") folders;
}
