namespace Shout;

/// <summary>
/// Every log event id of the library, in one place so that none is used twice. Each
/// <c>[LoggerMessage]</c> takes its id from here and names its event (<c>EventName</c>), so a
/// log pipeline can filter on either. Ranges: 1–19 sessions, 20–29 admission, 30–39 PROXY,
/// 40–59 hosting, 200s stream transports, 300s UDP, 400s web, 500s trace, 600s rooms, 700s operations.
/// </summary>
internal static class LogEvents
{
    public const int SessionAccepted = 1;
    public const int SessionHalfClosed = 2;
    public const int SessionClosed = 3;
    public const int SessionError = 4;
    public const int SessionRefused = 5;

    public const int RefusalNotSent = 22;

    public const int ProxyHeader = 30;
    public const int ProxyRejected = 31;

    public const int Listening = 40;
    public const int Draining = 41;

    public const int TlsCertificate = 201;
    public const int StaleUnixSocketRemoved = 202;
    public const int EpollHandlerFailed = 210;
    public const int EpollAcceptFailed = 211;
    public const int EpollConnectionFailed = 212;

    public const int UdpSocketError = 301;
    public const int UdpReplyTruncated = 302;
    public const int UdpDrained = 303;
    public const int UdpUnexpected = 304;
    public const int UdpRateLimited = 305;

    public const int WebRefused = 410;

    public const int TraceStarted = 501;
    public const int TraceStopped = 502;
    public const int TraceUnavailable = 503;

    public const int ReusePortLeft = 701;
    public const int SynFilterFailed = 702;
    public const int PassedSocketsReleased = 703;
    public const int ConnectionsStillOpen = 704;

    public const int ReloadChanged = 710;
    public const int ReloadFailed = 711;
    public const int ReloadDone = 712;
    public const int ReloadRestartNeeded = 713;

    public const int DescriptorLimitLowered = 730;
    public const int AcceptPaused = 731;
    public const int AcceptResumed = 732;
}
