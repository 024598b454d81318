namespace Shout.Transports.Epoll;

/// <summary>What every connection of one epoll transport shares: buffer sizes, limits, where continuations run.</summary>
/// <param name="ReadSize">Bytes one receive asks for (the transport's block size): the size of the buffer rented for a read.</param>
/// <param name="MaxRead">Most unconsumed input buffered per connection: past it nothing more is received until the application consumes.</param>
/// <param name="MaxWrite">Unsent output at which a flush waits for the client (0: never); it completes again at half of it.</param>
/// <param name="Inline">
/// Whether a read or flush completed by the loop continues the application on the loop thread
/// (<see cref="SocketTuning.InlineScheduling"/>) instead of on the thread pool.
/// </param>
internal sealed record EpollSettings(int ReadSize, long MaxRead, long MaxWrite, bool Inline);
