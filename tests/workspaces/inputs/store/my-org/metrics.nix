{
  _class = "clan.service";
  manifest.name = "acme/metrics";
  manifest.description = "Metrics (test stand-in)";
  manifest.readme = "metrics";
  roles.collector.description = "Collects metrics";
}
