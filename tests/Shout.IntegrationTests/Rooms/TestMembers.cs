using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Shout.Endpoints;

namespace Shout.IntegrationTests.Rooms;

/// <summary>A room member over any transport, as a test sees it: send a line, read the next line.</summary>
internal interface ITestMember : IAsyncDisposable
{
    string Nick { get; }

    Task SendAsync(string line);

    Task<string> ReadLineAsync();
}

internal static class TestMembers
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Reads until a line matches.</summary>
    public static async Task<string> ReadUntilAsync(this ITestMember member, Func<string, bool> match)
    {
        string line;
        while (!match(line = await member.ReadLineAsync()))
        {
        }

        return line;
    }

    /// <summary>Listens on tcp, tls, a Unix socket at <paramref name="socketPath"/>, udp and the web port (ws).</summary>
    public static void ListenOnEveryTransport(Shout.Hosting.ShoutServerOptions options, string socketPath)
    {
        options.Listen.Add(ShoutEndpoint.Parse("tcp://127.0.0.1:0"));
        options.Listen.Add(ShoutEndpoint.Parse("tls://127.0.0.1:0"));
        options.Listen.Add(ShoutEndpoint.Parse("unix://" + socketPath));
        options.Listen.Add(ShoutEndpoint.Parse("udp://127.0.0.1:0"));
        options.Web.Address = new Uri("http://127.0.0.1:0");
    }

    /// <summary>One named member on each transport <see cref="ListenOnEveryTransport"/> opened, each called by its transport.</summary>
    public static async Task<List<ITestMember>> OnEveryTransportAsync(Infrastructure.TestServer server)
    {
        var pin = new Shout.Client.ShoutClientOptions
        {
            Pin = Shout.Client.CertificatePin.Parse(Convert.ToHexString(server.Server.TlsCertificate!.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256))),
        };
        return
        [
            await NamedAsync(new Stream("tcp", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Tcp)))),
            await NamedAsync(new Stream("tls", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Tls), pin))),
            await NamedAsync(new Stream("unix", await RoomClient.ConnectAsync(server.EndpointOf(ShoutTransport.Unix)))),
            await NamedAsync(await WebSocketMember.ConnectAsync("ws", Web.WebServer.WebSocketUri(server))),
            await NamedAsync(await Datagram.JoinAsync("udp", server.EndpointOf(ShoutTransport.Udp))),
        ];
    }

    /// <summary>Each member in turn says hello: it gets its uppercase, every other member hears it with its name in front.</summary>
    public static async Task EachSaysHelloAndAllHearAsync(IReadOnlyList<ITestMember> members)
    {
        foreach (var member in members)
        {
            await member.SendAsync("hello from " + member.Nick);
            Assert.Equal("HELLO FROM " + member.Nick.ToUpperInvariant(), await member.ReadUntilAsync(l => !l.StartsWith('*')));
            foreach (var other in members.Where(m => m != member))
            {
                Assert.Equal($"{member.Nick}: HELLO FROM {member.Nick.ToUpperInvariant()}", await other.ReadUntilAsync(l => !l.StartsWith('*')));
            }
        }
    }

    /// <summary>Takes a nickname and waits for the OK.</summary>
    public static async Task<T> NamedAsync<T>(T member)
        where T : ITestMember
    {
        await member.SendAsync("/nick " + member.Nick);
        await member.ReadUntilAsync(l => l == "OK nick " + member.Nick);
        return member;
    }

    public sealed class Stream(string nick, RoomClient client) : ITestMember
    {
        public string Nick => nick;

        public Task SendAsync(string line) => client.SendAsync(line);

        public Task<string> ReadLineAsync() => client.ReadLineAsync();

        public ValueTask DisposeAsync() => client.DisposeAsync();
    }

    public sealed class WebSocketMember(string nick, ClientWebSocket socket) : ITestMember
    {
        public string Nick => nick;

        public static async Task<WebSocketMember> ConnectAsync(string nick, Uri uri)
        {
            var socket = new ClientWebSocket();
            using var timeout = new CancellationTokenSource(Timeout);
            await socket.ConnectAsync(uri, timeout.Token);
            return new WebSocketMember(nick, socket);
        }

        public async Task SendAsync(string line)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await socket.SendAsync(Encoding.UTF8.GetBytes(line), WebSocketMessageType.Text, true, timeout.Token);
        }

        public async Task<string> ReadLineAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            var buffer = new byte[64 * 1024];
            var total = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(total), timeout.Token);
                total += result.Count;
            }
            while (!result.EndOfMessage);
            return Encoding.UTF8.GetString(buffer, 0, total);
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    public sealed class Datagram(string nick, Socket socket, EndPoint server) : ITestMember
    {
        public string Nick => nick;

        /// <summary>A UDP socket that has not joined: the server answers it with a challenge only.</summary>
        public static Datagram Open(string nick, ShoutEndpoint endpoint)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return new Datagram(nick, socket, new IPEndPoint(IPAddress.Parse(endpoint.Host), endpoint.Port));
        }

        /// <summary>Joins <paramref name="room"/> as a person with <c>nc -u</c> does: <c>/join ROOM</c>, then the line it answers.</summary>
        public static async Task<Datagram> JoinAsync(string nick, ShoutEndpoint endpoint, string room = "lobby")
        {
            var member = Open(nick, endpoint);
            await member.SendAsync("/join " + room + "\n");
            var challenge = await member.ReadLineAsync();
            Assert.Matches($"^/join {room} [a-z2-7]{{8}}$", challenge);
            await member.SendAsync(challenge + "\n");
            Assert.Equal("OK room " + room, await member.ReadLineAsync());
            return member;
        }

        /// <summary>The port the server sees.</summary>
        public int LocalPort => ((IPEndPoint)socket.LocalEndPoint!).Port;

        public async Task SendAsync(string line)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            await socket.SendToAsync(Encoding.UTF8.GetBytes(line), SocketFlags.None, server, timeout.Token);
        }

        public async Task<string> ReadLineAsync()
        {
            using var timeout = new CancellationTokenSource(Timeout);
            var buffer = new byte[64 * 1024];
            var received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, received.ReceivedBytes);
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
