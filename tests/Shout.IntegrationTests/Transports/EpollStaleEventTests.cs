using Microsoft.Extensions.Logging;
using Shout.Transports.Epoll;

namespace Shout.IntegrationTests.Transports;

/// <summary>
/// An epoll registration can outlive the close of its descriptor: the kernel drops it only when the
/// file itself is released, and a child forked a moment ago (any Process.Start) holds every file
/// until it execs. The loop must then drop the file's events, never hand them to whichever
/// connection was registered since (with a GCHandle as the event's data, the freed handle's slot went
/// to the next registration, so another connection's Receive ran on the wrong loop).
/// </summary>
public sealed class EpollStaleEventTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void An_event_for_a_released_registration_whose_file_outlived_its_close_reaches_no_handler()
    {
        var errors = new ErrorCounter();
        using var loop = new EpollLoop(0, errors);
        using var other = new EpollLoop(1, errors);
        var descriptors = new List<int>();
        try
        {
            var fd = EpollNative.CreateEventFd();
            var survivor = Native.Dup(fd);
            Assert.True(survivor >= 0, "dup failed");
            descriptors.Add(survivor);
            var released = new Recorder();
            Assert.Equal(0, loop.Register(fd, EpollNative.EpollIn, released, out var token));

            // As a connection's end while a child holds its file: closed, registration still in the set, released.
            EpollNative.CloseFd(fd);
            loop.Release(token);
            Assert.Equal(0, loop.Registered);
            Turn(loop);

            // The next connections register, on the other loop first (a GCHandle slot freed is the next one allocated).
            var fresh = new Recorder[64];
            for (var i = 0; i < fresh.Length; i++)
            {
                var quiet = EpollNative.CreateEventFd();
                descriptors.Add(quiet);
                fresh[i] = new Recorder();
                Assert.Equal(0, (i % 2 == 0 ? other : loop).Register(quiet, EpollNative.EpollIn, fresh[i], out _));
            }

            // The old file becomes readable, then a probe on the same loop: the stale event comes first.
            var probeFd = EpollNative.CreateEventFd();
            descriptors.Add(probeFd);
            var probe = new Recorder();
            Assert.Equal(0, loop.Register(probeFd, EpollNative.EpollIn | EpollNative.EpollEt, probe, out _));
            EpollNative.Signal(survivor);
            EpollNative.Signal(probeFd);
            Assert.True(probe.Called.Wait(Timeout), "the loop never reported the probe");

            // And once more after a full turn of the loop, so the stale event (level-triggered) came again.
            Turn(loop);

            Assert.Equal(0, released.Count);
            Assert.All(fresh, r => Assert.Equal(0, r.Count));
            Assert.Equal(0, errors.Count);
        }
        finally
        {
            foreach (var d in descriptors)
            {
                EpollNative.CloseFd(d);
            }
        }
    }

    /// <summary>Returns once the loop has finished the batch it is in and run its scheduled work.</summary>
    private static void Turn(EpollLoop loop)
    {
        using var turned = new ManualResetEventSlim();
        loop.Schedule(static s => ((ManualResetEventSlim)s!).Set(), turned);
        Assert.True(turned.Wait(Timeout), "the loop never ran scheduled work");
    }

    private sealed class Recorder : IEpollHandler
    {
        private int _count;

        public ManualResetEventSlim Called { get; } = new();

        public int Count => Volatile.Read(ref _count);

        public long EpollToken { get; set; }

        public void OnEvents(uint events)
        {
            Interlocked.Increment(ref _count);
            Called.Set();
        }
    }

    private sealed class ErrorCounter : ILogger
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                Interlocked.Increment(ref _count);
            }
        }
    }

    private static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "dup", SetLastError = true)]
        public static extern int Dup(int fd);
    }
}
