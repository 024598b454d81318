namespace Shout.Toxics;

/// <summary>A proxy as a request or a config file gives it (toxiproxy's fields), checked.</summary>
internal sealed record ProxyInput(string Name, ProxyAddress Listen, ProxyAddress Upstream, bool Enabled);
