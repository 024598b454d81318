using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http;

namespace Shout.Transports.WebSockets;

/// <summary>
/// The upgraded connection under the runtime's WebSocket, with <see cref="FrameHeaderWatch"/> on
/// what the client sends: a message declaring more than the limit calls the session's callback at
/// its header, so the session closes with 1009 at once instead of waiting for a payload that may
/// never come. Installed by <see cref="Middleware"/> in front of ASP.NET Core's WebSocket middleware
/// (HTTP/1.1 upgrades; the page's WebSocket is one).
/// </summary>
internal sealed class FrameLimitStream(Stream inner, long maxMessageBytes) : Stream, IOversizeSignal
{
    private FrameHeaderWatch _watch = new(maxMessageBytes);
    private Action? _exceeded;

    /// <summary>True once the client declared a message over the limit.</summary>
    public bool Exceeded => _watch.Exceeded;

    /// <summary>Calls <paramref name="callback"/> when (or, if it already happened, now that) a message is declared over the limit.</summary>
    public void OnExceeded(Action callback)
    {
        Volatile.Write(ref _exceeded, callback);
        if (Exceeded)
        {
            callback();
        }
    }

    /// <summary>Wraps every HTTP/1.1 upgrade's stream; the WebSocket middleware, registered after, sees the wrapper.</summary>
    public static Func<HttpContext, RequestDelegate, Task> Middleware(long maxMessageBytes) => (context, next) =>
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new WatchedUpgrade(upgrade, context, maxMessageBytes));
        }

        return next(context);
    };

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        if (read > 0 && !_watch.Exceeded && _watch.Feed(buffer.Span[..read]))
        {
            Volatile.Read(ref _exceeded)?.Invoke();
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override bool CanRead => inner.CanRead;

    public override bool CanWrite => inner.CanWrite;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }

    private sealed class WatchedUpgrade(IHttpUpgradeFeature inner, HttpContext context, long maxMessageBytes) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync()
        {
            var stream = new FrameLimitStream(await inner.UpgradeAsync(), maxMessageBytes);
            context.Features.Set(stream);
            return stream;
        }
    }
}
