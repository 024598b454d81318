using System.Buffers;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Tests.Protocols;

/// <summary>
/// A peer of the message seam in memory, for protocol tests: every answer the protocol hands over
/// (as text, with whether it ended the answer message, exactly as handed: an empty part too),
/// every line it sends (one message per line, without its terminator, as a WebSocket or UDP peer
/// sends them) and a kick (<c>(kicked)</c> among the lines).
/// </summary>
internal sealed class RecordingPeer(Session session, SocketAddress? unconfirmed = null) : IPeer
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly AnswerBuffer _answer = new();
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();

    public Session Session => session;

    public PeerSeam Seam => PeerSeam.Message;

    public SocketAddress? UnconfirmedAddress => unconfirmed;

    public IBufferWriter<byte> Answer => _answer;

    /// <summary>What sending a line throws (a peer that is gone); null to send.</summary>
    public Exception? Failure { get; init; }

    /// <summary>For each <see cref="SendLinesAsync"/>: how many lines it carried and whether more followed at once.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(int Lines, bool More)> Sends { get; } = new();

    /// <summary>Each answer part handed over: its text and whether it ended the answer message.</summary>
    public List<(string Text, bool End)> Answers { get; } = [];

    public ValueTask<bool> AnswerAsync(long received, bool endOfMessage)
    {
        var answer = _answer.Written;
        session.Answered(received, answer.Length);
        Answers.Add((Encoding.UTF8.GetString(answer.Span), endOfMessage));
        _answer.Clear();
        return ValueTask.FromResult(true);
    }

    public ValueTask<bool> SendLinesAsync(ReadOnlyMemory<byte> lines, bool more)
    {
        if (Failure is not null)
        {
            throw Failure;
        }

        var texts = new List<string>();
        while (!lines.IsEmpty)
        {
            texts.Add(Encoding.UTF8.GetString(LineText.WithoutTerminator(LineText.Next(ref lines)).Span));
        }

        // Recorded before the lines can be read, so a test that read them finds the send.
        Sends.Enqueue((texts.Count, more));
        texts.ForEach(text => _lines.Writer.TryWrite(text));
        return ValueTask.FromResult(true);
    }

    public void Kick() => _lines.Writer.TryWrite("(kicked)");

    /// <summary>The next line sent (or <c>(kicked)</c>).</summary>
    public async Task<string> ReadAsync()
    {
        using var deadline = new CancellationTokenSource(Patience);
        return await _lines.Reader.ReadAsync(deadline.Token);
    }

    /// <summary>The first line sent from now on that <paramref name="match"/> accepts.</summary>
    public async Task<string> ReadUntilAsync(Func<string, bool> match)
    {
        while (true)
        {
            var line = await ReadAsync();
            if (match(line))
            {
                return line;
            }
        }
    }
}
