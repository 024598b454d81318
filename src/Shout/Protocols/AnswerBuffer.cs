using System.Buffers;

namespace Shout.Protocols;

/// <summary>
/// Where a protocol writes an answer for a peer of the message seam (a WebSocket session, a UDP
/// source) before the peer sends it: a pooled buffer rented on the first write and given back with
/// <see cref="Release"/> (at the end of a message), so an idle peer holds none. Not thread-safe: the
/// protocol's loop writes it and the peer sends it.
/// </summary>
internal sealed class AnswerBuffer : IBufferWriter<byte>
{
    // At least one WebSocket chunk's uppercase, so a message whose chunks grow does not rent again for each.
    private const int MinRent = 32 * 1024;

    private byte[]? _buffer;
    private int _written;

    /// <summary>What was written since the last <see cref="Clear"/>.</summary>
    public ReadOnlyMemory<byte> Written => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_buffer is null || _written + count > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the buffer's end.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(_written);

    public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(_written);

    /// <summary>Forgets what was written (it was sent), keeping the buffer for the rest of the message.</summary>
    public void Clear() => _written = 0;

    /// <summary>Gives the buffer back (the message ended, or the peer did).</summary>
    public void Release()
    {
        _written = 0;
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private byte[] Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer is { } buffer && buffer.Length - _written >= needed)
        {
            return buffer;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(MinRent, Math.Max((_buffer?.Length ?? 0) * 2, _written + needed)));
        if (_buffer is { } old)
        {
            old.AsSpan(0, _written).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(old);
        }

        _buffer = larger;
        return larger;
    }
}
