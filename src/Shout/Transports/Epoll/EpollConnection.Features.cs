using System.Collections;
using System.Globalization;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Shout.Transports.Epoll;

/// <summary>
/// The connection is its own feature collection (as Kestrel's transports are): the transport's
/// features are the connection itself, the few that Kestrel and middleware add (TLS, admission,
/// PROXY, lifetime notification) go in a short list. No dictionary per connection.
/// </summary>
internal sealed partial class EpollConnection : IFeatureCollection, IConnectionIdFeature, IConnectionTransportFeature,
    IConnectionItemsFeature, IMemoryPoolFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature, IConnectionSocketFeature
{
    private static readonly Type[] Own =
    [
        typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IConnectionItemsFeature), typeof(IMemoryPoolFeature),
        typeof(IConnectionLifetimeFeature), typeof(IConnectionEndPointFeature), typeof(IConnectionSocketFeature),
    ];

    private static long s_lastId;

    private string? _connectionId;
    private IDuplexPipe _transport;
    private IDictionary<object, object?>? _items;
    private CancellationToken? _connectionClosed; // set by a layer; otherwise the connection's own, made when asked
    // As long as what connections are usually given (a List was 80 bytes more per idle connection);
    // a free slot has no key.
    private KeyValuePair<Type, object?>[]? _added;

    // How many features the layers above gave one connection, at most, so far: a new connection's list
    // is made that long at once, not grown by one per feature (each growth left the last list as garbage).
    private static int s_usualFeatures = 1;
    private int _revision;

    public override string ConnectionId
    {
        get => _connectionId ??= "E" + Interlocked.Increment(ref s_lastId).ToString("X8", CultureInfo.InvariantCulture);
        set => _connectionId = value;
    }

    public override IFeatureCollection Features => this;

    public override IDictionary<object, object?> Items
    {
        get => _items ??= new Dictionary<object, object?>();
        set => _items = value;
    }

    public override IDuplexPipe Transport
    {
        get => _transport;
        set => _transport = value;
    }

    public override CancellationToken ConnectionClosed
    {
        get => _connectionClosed ?? ClosedToken();
        set => _connectionClosed = value;
    }

    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
    {
        get => Find(key);
        set => Store(key, value);
    }

    TFeature? IFeatureCollection.Get<TFeature>()
        where TFeature : default => (TFeature?)Find(typeof(TFeature));

    void IFeatureCollection.Set<TFeature>(TFeature? instance)
        where TFeature : default => Store(typeof(TFeature), instance);

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        foreach (var (type, value) in _added ?? [])
        {
            if (type is not null && value is not null)
            {
                yield return new(type, value);
            }
        }

        foreach (var type in Own)
        {
            if (IndexOf(_added, type) < 0)
            {
                yield return new(type, this);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    private object? Find(Type key)
    {
        if (_added is { } added)
        {
            foreach (var (type, value) in added)
            {
                if (type == key)
                {
                    return value;
                }
            }
        }

        return Array.IndexOf(Own, key) >= 0 ? this : null;
    }

    private void Store(Type key, object? value)
    {
        _revision++;
        var added = _added ??= new KeyValuePair<Type, object?>[Volatile.Read(ref s_usualFeatures)];
        var index = IndexOf(added, key);
        if (index < 0)
        {
            index = IndexOf(added, null);
        }

        if (index < 0)
        {
            // More than usual: grown by one, and the next connections' lists start this long.
            index = added.Length;
            Array.Resize(ref added, index + 1);
            _added = added;
            if (added.Length > Volatile.Read(ref s_usualFeatures))
            {
                Volatile.Write(ref s_usualFeatures, added.Length);
            }
        }

        added[index] = new(key, value);
    }

    private static int IndexOf(KeyValuePair<Type, object?>[]? added, Type? key)
    {
        if (added is not null)
        {
            for (var i = 0; i < added.Length; i++)
            {
                if (added[i].Key == key)
                {
                    return i;
                }
            }
        }

        return -1;
    }
}
