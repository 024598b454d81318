using Shout.Sessions;

namespace Shout.Tests.Sessions;

public sealed class DescriptorBudgetTests
{
    [Theory]
    [InlineData(1024, 0, 704)]
    [InlineData(1024, 5000, 704)]
    [InlineData(1024, 704, 704)]
    [InlineData(1024, 100, 100)]
    [InlineData(256, 0, 64)]
    [InlineData(0, 0, 0)]
    [InlineData(0, 50, 50)]
    public void The_connection_limit_is_fitted_to_the_descriptor_limit(int limit, int asked, int expected)
    {
        var budget = new DescriptorBudget(limit, () => 0);
        Assert.Equal(expected, budget.Clamp(asked));
        Assert.Equal(asked != expected, budget.Lowers(asked));
    }

    [Fact]
    public void Accepts_stop_near_the_limit_and_resume_only_once_a_few_more_than_the_reserve_are_free()
    {
        var open = 900;
        var budget = new DescriptorBudget(1024, () => open);
        Assert.Equal(64, budget.Reserve);
        var accepted = 0;
        while (budget.HasRoom())
        {
            accepted++;
            open++;
        }

        Assert.Equal(1024 - 64 - 900, accepted);
        open -= 10;
        Assert.False(budget.HasRoom());
        open -= 40;
        Assert.True(budget.HasRoom());
    }

    [Fact]
    public void No_room_when_the_descriptors_cannot_even_be_listed()
    {
        var budget = new DescriptorBudget(1024, () => -1);
        Assert.False(budget.HasRoom());
    }

    [Fact]
    public void Rules_are_fitted_at_start_and_at_every_replace()
    {
        var rules = new SessionRules(new SessionSettings { MaxConnections = 0 }, new DescriptorBudget(1024, () => 0));
        Assert.Equal(704, rules.Current.MaxConnections);
        rules.Replace(new SessionSettings { MaxConnections = 9000 });
        Assert.Equal(704, rules.Current.MaxConnections);
        rules.Replace(new SessionSettings { MaxConnections = 10 });
        Assert.Equal(10, rules.Current.MaxConnections);
    }
}
