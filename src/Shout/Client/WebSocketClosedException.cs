using System.Net.WebSockets;

namespace Shout.Client;

/// <summary>
/// The server closed a WebSocket with a code that is not a normal end (anything but 1000, 1001
/// or none): the conversation failed, and the code and the server's reason say why.
/// </summary>
public sealed class WebSocketClosedException : IOException
{
    /// <summary>A close with <paramref name="status"/> and the server's <paramref name="description"/>.</summary>
    public WebSocketClosedException(WebSocketCloseStatus status, string? description)
        : base(ShoutWebSocketClient.DescribeClose(status, description))
    {
        Status = status;
        Description = description ?? "";
    }

    /// <summary>The close code the server sent.</summary>
    public WebSocketCloseStatus Status { get; }

    /// <summary>The reason the server gave with it (may be empty).</summary>
    public string Description { get; }
}
