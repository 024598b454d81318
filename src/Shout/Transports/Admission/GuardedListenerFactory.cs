using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Shout.Sessions;

namespace Shout.Transports.Admission;

/// <summary>
/// Kestrel's socket transport with the descriptor budget in front of every accept: a listener waits
/// (backing off, <see cref="DescriptorBackoff"/>) while the process is near its open-file limit, and
/// clients wait in the kernel's listen queue until descriptors are free again. Without it, Kestrel's
/// socket listener retries a failed accept (EMFILE) at once, forever, and the connections it does get
/// take the descriptors the runtime needs to load its assemblies (<see cref="DescriptorBudget"/>).
/// Thread-safe.
/// </summary>
internal sealed class GuardedListenerFactory(IConnectionListenerFactory inner, DescriptorBudget budget, ILogger logger)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new Listener(await inner.BindAsync(endpoint, cancellationToken), budget, logger);

    private sealed class Listener(IConnectionListener inner, DescriptorBudget budget, ILogger logger) : IConnectionListener
    {
        private readonly DescriptorBackoff _backoff = new();

        // Ends a wait for descriptors when the listener is unbound: Kestrel's stop waits for the accept loop.
        private readonly CancellationTokenSource _unbound = new();

        public EndPoint EndPoint => inner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            // Kestrel calls this from one accept loop per listener, so the backoff needs no lock.
            while (!budget.HasRoom())
            {
                if (!_backoff.Paused)
                {
                    DescriptorLog.Paused(logger, EndPoint.ToString() ?? "?", budget.Reserve, budget.Limit);
                }

                try
                {
                    using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
                    await Task.Delay(_backoff.Next(), either.Token);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }

            if (_backoff.Reset())
            {
                DescriptorLog.Resumed(logger, EndPoint.ToString() ?? "?");
            }

            return await inner.AcceptAsync(cancellationToken);
        }

        public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            await _unbound.CancelAsync();
            await inner.UnbindAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            await _unbound.CancelAsync();
            await inner.DisposeAsync();
            _unbound.Dispose();
        }
    }
}
