namespace Shout.Toxics;

/// <summary>A connection through a proxy (bytes or WebSocket messages), which the proxy resets when it is disabled or deleted.</summary>
internal interface IProxiedConnection
{
    /// <summary>Resets both sides (RST), as toxiproxy's disable does.</summary>
    void Abort();
}
