using System.Buffers.Binary;

namespace Shout.Transports.WebSockets;

/// <summary>
/// Follows the WebSocket frames a client sends (RFC 6455 §5.2: header, extended length, mask,
/// payload), looking only at the headers, and tells when a message declares more payload than the
/// limit. The runtime's WebSocket reports a frame only as its payload arrives, so a header
/// declaring 2^63 − 1 bytes followed by silence was held until the idle timeout; watched here, it
/// is refused at its header. A message's declared size is the sum of its data frames' lengths.
/// Pure; one per connection; not thread-safe.
/// </summary>
internal struct FrameHeaderWatch(long maxMessageBytes)
{
    private const int MaxHeader = 14;

    private HeaderBytes _header;
    private int _have;
    private int _needed = 2;
    private ulong _payloadLeft;
    private ulong _message;

    /// <summary>Feeds bytes as received; true once a message has declared more than the limit (it stays true).</summary>
    public bool Exceeded { get; private set; }

    public bool Feed(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && !Exceeded)
        {
            if (_payloadLeft > 0)
            {
                var skip = (int)Math.Min(_payloadLeft, (ulong)bytes.Length);
                _payloadLeft -= (ulong)skip;
                bytes = bytes[skip..];
                continue;
            }

            var take = Math.Min(_needed - _have, bytes.Length);
            bytes[..take].CopyTo(((Span<byte>)_header)[_have..]);
            _have += take;
            bytes = bytes[take..];
            if (_have < _needed)
            {
                continue;
            }

            if (_needed == 2)
            {
                // Now the header's full size is known: extended length and mask key.
                var code = _header[1] & 0x7F;
                _needed = 2 + (code == 126 ? 2 : code == 127 ? 8 : 0) + ((_header[1] & 0x80) != 0 ? 4 : 0);
                if (_needed > 2)
                {
                    continue;
                }
            }

            OnHeader();
        }

        return Exceeded;
    }

    private void OnHeader()
    {
        ReadOnlySpan<byte> header = _header;
        var code = header[1] & 0x7F;
        var length = code == 126 ? BinaryPrimitives.ReadUInt16BigEndian(header[2..]) : code == 127 ? BinaryPrimitives.ReadUInt64BigEndian(header[2..]) : (ulong)code;
        var opcode = header[0] & 0x0F;
        var fin = (header[0] & 0x80) != 0;

        // No valid length has its top bit set (RFC 6455): the runtime's parser refuses such a frame with
        // 1002. Counting it here too would race that refusal, and the client would get 1002 or 1009 by chance.
        var valid = length < 1UL << 63;
        if (valid && opcode < 0x8)
        {
            // Data and continuation frames add up to the message; control frames (≤ 125 bytes) are the runtime's to check.
            _message = length > ulong.MaxValue - _message ? ulong.MaxValue : _message + length;
            if (_message > (ulong)maxMessageBytes)
            {
                Exceeded = true;
                return;
            }

            if (fin)
            {
                _message = 0;
            }
        }

        _payloadLeft = valid ? length : 0;
        _have = 0;
        _needed = 2;
    }

    [System.Runtime.CompilerServices.InlineArray(MaxHeader)]
    private struct HeaderBytes
    {
        private byte _first;
    }
}
