namespace Shout.Toxics;

/// <summary>A refused API request: the HTTP status and toxiproxy's one-line reason ({"error": …, "status": …}).</summary>
internal sealed class ToxiproxyError(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    public static ToxiproxyError BadBody(string reason) => new(400, "bad request body: " + reason);

    public static ToxiproxyError ProxyNotFound() => new(404, "proxy not found");

    public static ToxiproxyError ToxicNotFound() => new(404, "toxic not found");
}
