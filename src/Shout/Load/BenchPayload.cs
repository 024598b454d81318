using Shout.Text;

namespace Shout.Load;

/// <summary>
/// The bytes every connection sends and the bytes it must get back, computed once. The message is
/// lowercase ASCII letters ending in <c>\n</c> (so line-mode servers answer it too); its expected
/// reply has the same length, so replies are checked by position with no per-message work but a
/// vectorized compare.
/// </summary>
internal sealed class BenchPayload
{
    public BenchPayload(int size, int repeat, BenchExpect expect)
    {
        Size = size;
        var message = new byte[size];
        for (var i = 0; i < size; i++)
        {
            message[i] = (byte)('a' + (i % 26));
        }

        message[^1] = (byte)'\n';
        Expected = expect == BenchExpect.Upper ? ShoutCase.ToUpper(message) : message;
        if (Expected.Length != size)
        {
            throw new InvalidOperationException("the expected reply must be as long as the message");
        }

        Messages = new byte[size * repeat];
        for (var i = 0; i < repeat; i++)
        {
            message.CopyTo(Messages, i * size);
        }
    }

    /// <summary>Bytes per message.</summary>
    public int Size { get; }

    /// <summary>The correct reply to one message.</summary>
    public byte[] Expected { get; }

    /// <summary>The message repeated, so up to that many can be sent in one write.</summary>
    public byte[] Messages { get; }

    /// <summary>The first <paramref name="count"/> messages, ready to send.</summary>
    public ReadOnlyMemory<byte> Take(int count) => Messages.AsMemory(0, count * Size);
}

/// <summary>
/// Checks a stream of replies against <see cref="BenchPayload.Expected"/> repeated, across reads of
/// any size. Not thread-safe: one per connection.
/// </summary>
internal struct ReplyChecker
{
    private int _offset;
    private bool _bad;

    /// <summary>Checks <paramref name="received"/>; returns how many messages it completed and how many of those were wrong.</summary>
    public (int Completed, int Wrong) Check(ReadOnlySpan<byte> received, ReadOnlySpan<byte> expected, LoadRun run)
    {
        var completed = 0;
        var wrong = 0;
        while (!received.IsEmpty)
        {
            var take = Math.Min(expected.Length - _offset, received.Length);
            if (!_bad && !received[..take].SequenceEqual(expected.Slice(_offset, take)))
            {
                _bad = true;
                run.NoteMismatch(expected.Slice(_offset, take), received[..take]);
            }

            _offset += take;
            received = received[take..];
            if (_offset == expected.Length)
            {
                completed++;
                wrong += _bad ? 1 : 0;
                _bad = false;
                _offset = 0;
            }
        }

        return (completed, wrong);
    }
}
